"""extract: PDF and Word letters -> segments with heading paths, metadata, and clear failure codes.

``engine.extract_document`` is the pure library; ``sandbox.extract_in_sandbox`` runs it in a child
process under time and memory limits; ``app`` wires it to Kafka (``python -m services.extract``).
"""
