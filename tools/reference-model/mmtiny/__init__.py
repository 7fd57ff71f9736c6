"""mmserve-tiny: a small any-to-any multimodal LLM trained on a synthetic world."""
