"""Conformance models of the MM-LLM architecture families beyond mmserve-tiny's token injection (issue 19)."""
