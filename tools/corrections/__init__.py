"""Tools around the store's analyst corrections (export as labelled training data)."""
