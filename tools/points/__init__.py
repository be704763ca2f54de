"""Tools for point grouping: evaluation on the paraphrase sets and the Norwegian data build."""
