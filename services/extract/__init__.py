"""extract: PDF and Word letters -> segments with heading paths and metadata, and clear failure codes.

``engine.extract_document`` is the pure library: ``pdf_pipeline`` (page and document stages) and
``docx_reader`` turn a file into ``model.Block`` s, which ``headings``, ``metadata`` and ``senders``
type and describe. ``sandbox`` runs the engine in a pool of warm sandboxed worker processes under time
and memory limits; ``consumer`` wires that pool to Kafka (``python -m services.extract``).
"""
