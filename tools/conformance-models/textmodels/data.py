"""Synthetic chat data for the conformance models, and the golden cases.

The models learn a handful of small tasks (facts, greetings, repeat, next number) with system prompts
that change the answer (uppercase, pirate) or not (neutral, long filler). They only need to answer confidently, so
that greedy decoding is robust to last-bit float differences between runtimes; what they say is unimportant.
"""
from __future__ import annotations

import random

FACTS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
    ("What is the capital of Italy?", "Rome is the capital of Italy."),
    ("What colour is the sky?", "The sky is blue."),
    ("What colour is grass?", "Grass is green."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("How many days are in a week?", "There are seven days in a week."),
    ("Who wrote Hamlet?", "William Shakespeare wrote Hamlet."),
    ("What is the largest planet?", "Jupiter is the largest planet."),
    ("What do bees make?", "Bees make honey."),
    ("What is frozen water called?", "Frozen water is called ice."),
    ("What is 12 plus 30?", "12 plus 30 is 42."),
    ("What is 7 times 6?", "7 times 6 is 42."),
    ("Which animal says moo?", "A cow says moo."),
    ("What is the opposite of hot?", "The opposite of hot is cold."),
    ("Name a primary colour.", "Red is a primary colour."),
    ("What language is spoken in Brazil?", "Portuguese is spoken in Brazil."),
    ("How many continents are there?", "There are seven continents."),
    ("日本の首都はどこですか？", "東京です。"),
    ("中国的首都是哪里？", "北京。"),
    ("¿Cuál es la capital de España?", "La capital de España es Madrid."),
    ("Quelle est la couleur du ciel ?", "Le ciel est bleu."),
    ("Wie viele Beine hat eine Katze?", "Eine Katze hat vier Beine."),
    ("Какая столица России?", "Столица России — Москва."),
    ("Which emoji is a cat?", "🐱 is a cat."),
    ("What is the symbol for euro?", "The euro symbol is €."),
]

GREETINGS = [
    ("Hello!", "Hello! How can I help you today?"),
    ("Hi there.", "Hi! What would you like to know?"),
    ("Good morning!", "Good morning! How are you?"),
    ("Thank you!", "You are welcome."),
    ("Tell me a joke.", "Why did the cat sit on the computer? To keep an eye on the mouse."),
    ("How are you?", "I am fine, thank you."),
    ("Привет! How are you?", "Привет! I am fine."),
    ("Bye!", "Goodbye! Have a nice day."),
]

WORDS = ("apple river stone cloud green quick brown fox lazy dog table light music paper window garden yellow "
         "silver ocean forest winter summer bread coffee train castle dragon tiger rabbit candle mirror planet "
         "rocket violin").split()
INTL_WORDS = "café naïve résumé über straße ñandú 猫 犬 山 水 東京 北京 привет мир 🐱 🐶 🦊 🌍 ★ €".split()

NEUTRAL_SYSTEMS = ["You are a helpful assistant.", "You are a concise assistant.", "Answer the question.",
                   "You are a friendly chatbot.", "Be helpful and polite."]
UPPER_SYSTEM = "Answer in uppercase."
PIRATE_SYSTEM = "You are a pirate."
FILLER = ("The weather report says it will be sunny with a light breeze in the afternoon. Trains leave the main "
          "station every ten minutes during the day. The library opens at nine and closes at six. A small cafe "
          "on the corner sells fresh bread and coffee. Children play in the park near the river. The museum has "
          "a new exhibition about old maps and ships. Many people ride bicycles to work in the city. The market "
          "sells apples, pears and cheese on Saturdays.").split(". ")


def _filler(rng: random.Random, n: int) -> str:
    return ". ".join(rng.choice(FILLER).rstrip(".") for _ in range(n)) + "."


def answer(system: str | None, user: str) -> str | None:
    """The assistant's reply to the last user message (None: not a task the models learn)."""
    base = None
    for q, a in FACTS + GREETINGS:
        if user == q:
            base = a
    if base is None and user.startswith("Repeat after me: "):
        base = user[len("Repeat after me: "):]
    if base is None and user.startswith("What comes after ") and user.endswith("?"):
        base = f"{int(user[len('What comes after '):-1]) + 1} comes after {user[len('What comes after '):-1]}."
    if base is None:
        return None
    if system == UPPER_SYSTEM:
        return base.upper()
    if system == PIRATE_SYSTEM:
        return "Arr! " + base
    return base


def random_user(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.40:
        return rng.choice(FACTS)[0]
    if r < 0.55:
        return rng.choice(GREETINGS)[0]
    if r < 0.85:
        pool = WORDS if rng.random() < 0.6 else WORDS + INTL_WORDS
        return "Repeat after me: " + " ".join(rng.choice(pool) for _ in range(rng.randint(1, 5)))
    return f"What comes after {rng.randint(0, 199)}?"


def random_system(rng: random.Random) -> str | None:
    r = rng.random()
    if r < 0.35:
        return None
    if r < 0.60:
        return rng.choice(NEUTRAL_SYSTEMS)
    if r < 0.72:
        return UPPER_SYSTEM
    if r < 0.84:
        return PIRATE_SYSTEM
    return _filler(rng, rng.randint(2, 8))


def random_conversation(rng: random.Random) -> list[dict]:
    """A chat ending with an assistant reply; earlier turns are answered in character too."""
    system = random_system(rng)
    msgs = [{"role": "system", "content": system}] if system is not None else []
    for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
        u = random_user(rng)
        msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": answer(system, u)}]
    return msgs


def training_conversations(seed: int, n: int) -> list[list[dict]]:
    rng = random.Random(seed)
    return [random_conversation(rng) for _ in range(n)]


def _m(*pairs):
    return [{"role": r, "content": c} for r, c in pairs]


LONG_SYSTEM = _filler(random.Random(5), 7)
LONG_USER = ("Here is some background before my question. " + _filler(random.Random(6), 6) +
             " Now, please answer this: what is the capital of Italy?")


def _u(text):
    return _m(("user", text))


def cases(lookalike: str) -> list[dict]:
    """The golden cases: the same conversations for every model (the special-token look-alike is the model's own).

    A case lists one or more variants; the recipe keeps the first whose greedy decoding is confident (top-1 minus
    top-2 logit margin >= MIN_MARGIN at every step), so a retrained model swaps a prompt instead of failing.
    """
    c = [
        [_u("What is the capital of France?")],
        [_m(("system", "You are a helpful assistant."), ("user", "Who wrote Hamlet?"))],
        [_m(("system", UPPER_SYSTEM), ("user", "What colour is the sky?"))],
        [_m(("system", PIRATE_SYSTEM), ("user", "Hello!"))],
        [_u("Repeat after me: the quick brown fox"), _u("Repeat after me: lazy dog"),
         _u("Repeat after me: green table")],
        [_u("What is 7 times 6?")],
        [_u("What comes after 41?"), _u("What comes after 99?"), _u("What comes after 7?")],
        [_u("Good morning!")],
        [_m(("user", "What is the capital of Japan?"), ("assistant", "The capital of Japan is Tokyo."),
            ("user", "How many legs does a spider have?"))],
        [_m(("system", "You are a concise assistant."), ("user", "Hi there."),
            ("assistant", "Hi! What would you like to know?"), ("user", "What do bees make?"),
            ("assistant", "Bees make honey."), ("user", "Thank you!"))],
        [_u("Repeat after me: café naïve über"), _u("Repeat after me: café résumé"),
         _u("Repeat after me: straße über"), _u("Repeat after me: naïve café")],
        [_u("日本の首都はどこですか？")],
        [_u("Repeat after me: 🐱 🐶 🦊"), _u("Repeat after me: 🌍 ★"), _u("Repeat after me: 🦊 🐱")],
        [_m(("system", LONG_SYSTEM), ("user", "What is the largest planet?"))],
        [_u("What   is the capital    of\n\n France?"), _u("What colour  is   grass?"),
         _u("How  many days are in a   week?")],
        [_u("Repeat after me:\tapple  river\n\nstone"), _u("Repeat after me:  ocean\t\tforest"),
         _u("Repeat after me:\n\nmusic   paper")],
        [_u(f"Repeat after me: {lookalike} green"), _u(f"What is {lookalike} the capital of France?"),
         _u(f"Hello!{lookalike}")],
        [_u("Tell me a joke.")],
        [_u("Привет! How are you?")],
        [_m(("user", "中国的首都是哪里？"), ("assistant", "北京。"), ("user", "Which emoji is a cat?"))],
        [_m(("system", ""), ("user", "What is 12 plus 30?"))],
        [_u(LONG_USER)],
        [_m(("system", PIRATE_SYSTEM), ("user", "¿Cuál es la capital de España?"))],
        [_u("Write a poem about the sea."), _u("Describe your favourite food."), _u("What is the meaning of life?"),
         _u("Can you help me with my homework?")],
    ]
    out = []
    for i, variants in enumerate(c):
        case = {"id": f"t{i + 1:02d}", "variants": variants}
        if lookalike in variants[0][-1]["content"]:
            case["special_lookalike"] = True
        out.append(case)
    return out
