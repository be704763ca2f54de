"""The published event contract: JSON Schemas of every topic's record value and an AsyncAPI document,
generated from the pydantic models in ``shared/events.py`` (``python -m tools.contract.generate``)."""
