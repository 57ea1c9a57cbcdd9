"""The engine's core: the Dual tensor, the rule table machinery, pytrees and errors.
Nothing here names a specific op."""
