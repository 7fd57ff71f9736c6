// Renders small template snippets that pin down semantics the chat templates only touch in passing (printing,
// operators, filters, methods, scoping, errors) and writes them to snippets.json next to golden.json.
// Run with: TZ=UTC node render-snippets.mjs
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";
import "./frozen-clock.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, "../../tests/MmServe.Model.Tests/Chat/Jinja/snippets.json");

const context = {
  msgs: [
    { role: "system", content: "Be brief." },
    { role: "user", content: [{ type: "image" }, { type: "text", text: "What is this?" }] },
    { role: "assistant", content: "A cat.", tool_calls: [{ function: { name: "f", arguments: { a: 1, b: [true, null] } } }] },
  ],
  d: { b: 2, a: 1, nested: { x: [1, 2] } },
  s: "  Hello, World é ß  ",
  n: 7,
  f: 2.5,
  e: [],
  z: null,
  unicode: "naïve café 😀 日本",
};

const snippets = [
  "{{ n }} {{ f }} {{ -n }} {{ n / 2 }} {{ n // 2 }} {{ n % 4 }} {{ n * 1.0 }} {{ n - 0.5 }} {{ 2 ** -1 }} {{ 10 / 4 * 2 }}",
  "{{ 1e3 if false else 3.14159 }} {{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 100000000 * 100000000 }} {{ -0.0 }}",
  "{{ n > 3 and f < 3 }} {{ n == 7.0 }} {{ '7' == n }} {{ true == 1 }} {{ none == z }} {{ missing == none }} {{ n != 'x' }}",
  "{{ [1, 'a', none, true, 2.0, [3], {'k': 'v'}] }}",
  "{{ d }} {{ d.nested }} {{ d['nested']['x'][-1] }} {{ d.nested.x.0 }} {{ d.missing }} {{ d.get('a') }} {{ d.get('q', [1]) }}",
  "{{ d | length }} {{ d | items | list }} {{ d | dictsort }} {{ d.items() | first }} {{ d.keys() | join(',') }}",
  "{% for k, v in d | dictsort %}{{ k }}:{{ v }} {% endfor %}",
  "{{ s.strip() }}|{{ s.upper() }}|{{ s.lower() }}|{{ s | title }}|{{ s.title() }}|{{ s | capitalize }}|{{ s | length }}|{{ s.split() }}",
  "{{ unicode | upper }}|{{ unicode | title }}|{{ unicode[::-1] }}|{{ unicode[-2:] }}|{{ unicode | length }}|{{ unicode | tojson }}|{{ unicode | tojson(ensure_ascii=true) }}",
  "{{ s.replace('l', 'L', 2) }}|{{ s.replace('', '-') }}|{{ 'a-b-c'.split('-', 1) }}|{{ 'abc' | join('.') }}|{{ s | replace('o', '0') }}",
  "{{ e | first }}",
  "{{ 'x' ~ none ~ 'y' if false else 'ok' }}|{{ 'a' * 3 if false else 'b' }}|{{ [1, 2] + [3] }}|{{ 'ab' + 'cd' }}|{{ 'n=' + n }}|{{ 'f=' ~ f ~ [1, 'a'] }}",
  "{{ msgs | length }} {{ msgs[0].role }} {{ msgs[1].content[1].text }} {{ msgs[-1]['tool_calls'][0].function.arguments | tojson }}",
  "{{ msgs[2].tool_calls[0].function.arguments | tojson(indent=4) }}",
  "{% for m in msgs %}{% if m.content is string %}{{ m.content }}{% else %}{% for c in m.content %}[{{ c.type }}{{ ':' ~ c.text if c.text is defined }}]{% endfor %}{% endif %}|{% endfor %}",
  "{{ msgs | selectattr('role', 'equalto', 'user') | list | length }} {{ msgs | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join(',') }} {{ msgs | selectattr('tool_calls') | list | length }} {{ msgs | selectattr('tool_calls', 'defined') | list | length }}",
  "{{ msgs | map(attribute='tool_calls.0.function.name', default='-') | join(',') }}",
  "{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(reverse=true) }} {{ [1, 2, 2, 1] | unique }} {{ [1, 2] | reverse }} {{ e | length }}",
  "{{ '42abc' | int }} {{ 'x' | int }} {{ 'x' | int(5) }} {{ '2.5e1x' | float }} {{ 3.9 | int }} {{ true | int }} {{ -3 | abs }} {{ 4 | float }} {{ true | string }} {{ 2.0 | string }}",
  "{{ missing | default('d') }} {{ z | default('d') }} {{ z | default('d', true) }} {{ '' | default('d', boolean=true) }} {{ 0 | default('d') }}",
  "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb\\n\\nc' | indent(2, true) }}|{{ 'a\\nb\\n\\nc' | indent(width=1, first=true, blank=true) }}",
  "{{ n is number }} {{ n is integer }} {{ f is integer }} {{ n is odd }} {{ n is even }} {{ z is none }} {{ missing is undefined }} {{ d is mapping }} {{ msgs is iterable }} {{ s is iterable }} {{ d is iterable }} {{ (1, 2) is iterable }} {{ s is sequence }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ true is boolean }} {{ raise_exception is callable }}",
  "{{ 'b' in 'abc' }} {{ 'a' in d }} {{ 'zz' not in d }} {{ 2 in [1, 2] }} {{ 2.0 in [1, 2] }} {{ 'x' in missing }} {{ 'x' not in missing }} {{ none in [none] }}",
  "{% set a, b = [1, 2] %}{{ a }}{{ b }} {% set t = 1, 2 %}{{ t | length }}{{ t[1] }} {% set x %}inner {{ n }}{% endset %}[{{ x }}]",
  "{% set ns = namespace(a=1, items=[]) %}{% for i in range(3) %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.items }} {{ ns.a }} {{ ns }}",
  "{{ range(5) }} {{ range(2, 5) }} {{ range(5, 0, -2) }} {{ range(0) | length }}",
  "{% for i in range(10) if i is odd %}{{ loop.index }}/{{ loop.length }}:{{ i }}{{ ',' if not loop.last }}{% endfor %}",
  "{% for i in [1, 2] %}{% for j in ['a', 'b'] %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }}|{% endfor %}",
  "{% for i in [1, 2, 3] %}{% set last = i %}{% endfor %}{{ last }}|{% for x in e %}no{% else %}empty{% endfor %}",
  "{% macro m(a, b=2) %}{{ a }}+{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }} {{ m(b=5, a=4) }} {% macro v() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ v(1, 2, k=3) }}",
  "{{ 1 if true else 2 if true else 3 }} {{ 'a' if z else 'b' if n else 'c' }} {{ (1 if false) is defined }}",
  "{{ not true }} {{ not not 1 }} {{ not z and 1 }} {{ z or 'x' }} {{ 0 or e or 'last' }} {{ 1 and 2 }} {{ '' and 1 }}",
  "{{ (1, 2) }}",
  "{{ [1][0] }} {{ 'abc'[1] }} {{ 'abc'[10] }} {{ [1, 2, 3][5] }} {{ msgs[1:] | length }} {{ [1, 2, 3, 4, 5][1:4:2] }} {{ [1, 2, 3][5:] }}",
  "{{ {'a': 1, 'b': {'c': [1, {'d': none}]}} | tojson(indent=2) }}",
  "{{ {'a': 1, 'b': []} | tojson(indent=0) }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson(indent=2) }}|{{ 'q\"\\\\\\t\\u0001' | tojson }}|{{ 1.5 | tojson }}|{{ 2.0 | tojson }}",
  "{{ 'x' | safe }} {{ [1, 2] | string }} {{ d | tojson(sort_keys=true) }} {{ [1, [2]] | join(',') }} {{ [z, 1, missing] | join('-') }}",
  "{# comment #}a{#- strip -#} b {{- ' c ' -}} d{%- if true %} e{% endif -%}  f",
  "  {% if true %}\n    indented\n  {% endif %}\n{%- for i in [1] %}\n  {{ i }}\n{% endfor %}\nend\n",
  "{% if true %}a{% elif true %}b{% else %}c{% endif %}{% if false %}a{% elif n > 5 %}b{% else %}c{% endif %}{% if none %}a{% elif '' %}b{% else %}c{% endif %}",
  "{{ raise_exception('bad: ' ~ n) }}",
  "{{ undefined_fn() }}",
  "{{ z + 1 }}",
  "{{ missing + 1 }}",
  "{{ 'a' < 'b' }}",
  "{{ n.foo }}|{{ z.foo }}|{{ missing.foo.bar if false }}",
  "{% for x in 5 %}{% endfor %}",
  "{% for a, b in [[1, 2], [3]] %}{{ a }}{% endfor %}",
  "{{ s | trim | length }} {{ s.lstrip() | length }} {{ s.rstrip() | length }}",
  "{{ 'Hello'.startswith('He') }} {{ 'Hello'.startswith(['x', 'H']) }} {{ 'Hello'.endswith('lo') }} {{ 'a b'.split(' ') }} {{ '  a  b  '.split(none, 1) }}",
  "{{ strftime_now('%Y-%m-%d %H:%M %b %B %% %j') }}",
  "{{ 'generation' }}{% generation %}kept{% endgeneration %}  x {%- generation -%} y {%- endgeneration %}",
];

// Every binary operator between every kind of value, and the unary ones and filters on each kind, rendered alone.
const operands = ["1", "-2", "2.5", "0", "'a'", "''", "true", "false", "none", "missing", "[1, 'a']", "[]", "{'k': 1}", "n", "s", "d", "e"];
const operators = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"];
for (const a of operands) {
  for (const op of operators) {
    for (const b of operands) {
      snippets.push(`{{ ${a} ${op} ${b} }}`);
    }
  }
  snippets.push(`{{ not ${a} }}|{{ (${a}) is defined }}|{{ (${a}) is none }}|{{ (${a}) is string }}|{{ (${a}) is number }}`);
  snippets.push(`{{ -(${a}) }}`);
  for (const filter of ["length", "string", "int", "float", "tojson", "first", "last", "upper", "trim", "list", "items", "join", "abs", "default('x')", "title"]) {
    snippets.push(`{{ (${a}) | ${filter} }}`);
  }
}

// Slices of a list and a string (with a surrogate pair) for start/stop/step combinations.
const bounds = ["", "0", "1", "-1", "2", "-3", "10", "-10"];
for (const start of bounds) {
  for (const stop of bounds) {
    for (const step of ["", "1", "2", "-1", "-2"]) {
      snippets.push(`{{ [0, 1, 2, 3, 4][${start}:${stop}:${step}] }}|{{ 'ab😀cd'[${start}:${stop}:${step}] }}`);
    }
  }
}

// Every test on every kind of value.
for (const test of ["boolean", "callable", "odd", "even", "false", "true", "none", "string", "number", "integer", "iterable", "mapping", "sequence", "lower", "upper", "defined", "undefined"]) {
  for (const a of [...operands, "(1, 2)", "namespace(a=1)", "'ABC'", "3.0", "range"]) {
    snippets.push(`{{ (${a}) is ${test} }}|{{ (${a}) is not ${test} }}`);
  }
}

// String methods with their argument variants.
for (const call of ["strip()", "lstrip()", "rstrip()", "upper()", "lower()", "title()", "capitalize()", "split()", "split(',')", "split(', ', 1)", "split(none, 1)",
  "split('')", "startswith('a')", "startswith(['x', ' '])", "endswith('  ')", "endswith(1)", "replace(' ', '_')", "replace('l', 'L', 1)", "replace('l', 'L', count=2)",
  "replace('', '.')", "replace('x')", "length", "foo", "foo()", "get('a')"]) {
  for (const value of ["s", "'a,b, c'", "''", "unicode"]) {
    snippets.push(`{{ ${value}.${call} }}`);
  }
}

// Filters with arguments.
for (const f of ["indent(2)", "indent(2, true)", "indent(2, blank=true)", "indent(width=3, first=true)", "join(', ')", "join(separator='-')", "replace('a', 'b')",
  "sort", "sort(reverse=true)", "sort(attribute='role')", "sort(attribute='k')", "unique", "reverse", "tojson(indent=2)", "tojson(ensure_ascii=true)",
  "tojson(separators=(',', ':'))", "tojson(sort_keys=true)", "selectattr('role')", "selectattr('role', 'equalto', 'user')", "rejectattr('content', 'string')",
  "selectattr('tool_calls', 'defined')", "map(attribute='role')", "map(attribute='content.0.type', default='-')", "map('upper')", "dictsort", "dictsort(reverse=true)",
  "dictsort(by='value')", "items", "int(3)", "float(default=1.5)", "default(1)", "default(1, true)", "length", "list | length", "first", "last", "string", "trim",
  "capitalize", "upper", "lower", "title"]) {
  for (const value of ["msgs", "s", "d", "[3, 1, 'a']", "['b', 'A', 'a']", "[2, 1.5, true]", "{'b': 2, 'a': 3}", "'x\ny\n\nz'", "7", "none", "missing"]) {
    snippets.push(`{{ ${value} | ${f} }}`);
  }
}

// Whitespace handling around every kind of tag: trim_blocks, lstrip_blocks and the - modifiers together.
const before = ["", "a", "a ", "a\n", "a\n  ", "a\n\t \n  "];
const after = ["", "b", " b", "\nb", "\n  b", "\n\nb", "  \n b"];
for (const pre of before) {
  for (const open of ["{% if true %}", "{%- if true %}", "{% if true -%}", "{%- if true -%}"]) {
    for (const mid of after) {
      for (const close of ["{% endif %}", "{%- endif %}", "{% endif -%}"]) {
        snippets.push(`${pre}${open}${mid}${close}${mid}`);
      }
    }
  }
  for (const tag of ["{{ 'x' }}", "{{- 'x' }}", "{{ 'x' -}}", "{# c #}", "{#- c -#}", "{%- set y = 1 -%}", "{% set y = 1 %}"]) {
    for (const post of after) {
      snippets.push(`${pre}${tag}${post}`);
    }
  }
}

// Statements: loops over each kind of value, unpacking, scoping, macros and call blocks.
snippets.push(
  "{% for c in 'abc' %}{{ c }}{% endfor %}",
  "{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}|{% for k, v in {'b': 1}.items() %}{{ k }}{{ v }}{% endfor %}",
  "{% for x in (1, 2) %}{{ x }}{% endfor %}|{% for a, b in [(1, 2)] %}{{ a }}{{ b }}{% endfor %}",
  "{% for x in namespace(a=1) %}{{ x }}{% endfor %}",
  "{% for x in none %}{% endfor %}",
  "{% for x in [1, 2] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.revindex }}-{{ loop.revindex0 }};{% endfor %}",
  "{% for x in [1, 2] %}{% set y = x %}{% endfor %}{{ y }}|{% for x in [1, 2] %}{{ y }}{% set y = x %}{% endfor %}",
  "{% set x = 1 %}{% for x in [5] %}{{ x }}{% endfor %}{{ x }}",
  "{% for x in [[1, [2, 3]]] %}{% for y in x[1] %}{{ loop.index }}{{ y }}{% endfor %}{% endfor %}",
  "{% macro m(a) %}{{ a }}{{ kwargs }}{{ varargs }}{% endmacro %}{{ m(1, 2, 3, b=4) }}",
  "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
  "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=1) }}",
  "{% macro m(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ m('x') }}",
  "{% macro m() %}{{ outer }}{% endmacro %}{% set outer = 'late' %}{{ m() }}",
  "{% macro row(x) %}[{{ caller(x * 2) }}]{% endmacro %}{% call(y) row(3) %}{{ y }}{% endcall %}",
  "{% set x = namespace() %}{% set x.a = 1 %}{{ x.a }}{{ x.b }}",
  "{% set x %}{% for i in [1, 2] %}{{ i }}{% endfor %}{% endset %}{{ x | length }}",
  "{% set a, b = 'xy' %}{{ a }}{{ b }}",
  "{% set a, b = [1] %}",
  "{% if [] %}a{% elif {} %}b{% elif 0.0 %}c{% elif ' ' %}d{% endif %}",
  "{{ 'a' }}{% if false %}{{ 1 / 0 }}{% endif %}{{ missing.a.b.c is defined }}",
  "{% for m in msgs %}{% if m.role == 'user' %}{% break %}{% endif %}{{ m.role }}{% endfor %}",
  "{% for m in msgs if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% else %}none{% endfor %}",
);

const cases = snippets.map((source) => {
  const entry = { source };
  try {
    entry.output = new Template(source).render(structuredClone(context));
  } catch (e) {
    entry.error = String(e.message);
  }
  return entry;
});

fs.writeFileSync(out, JSON.stringify({ generator: "@huggingface/jinja 0.5.11", context, cases }, null, 1) + "\n");
console.log(`${cases.length} snippets (${cases.filter((c) => "error" in c).length} errors) -> ${out}`);
