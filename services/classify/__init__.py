"""classify: labels extracted segments as challenge / measure / example / other.

One :class:`~services.classify.schema.Classifier` interface covers every model kind (fine-tuned BERT,
TF-IDF + logistic regression, keyword rules); ``loader.load_classifier`` picks the kind from the model
directory's ``innspill_model.json``.
"""
