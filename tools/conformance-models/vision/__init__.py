"""Builders of the vision conformance models (tiny-llava, tiny-phi3-vision); driven by ../make_vision_models.py."""
