"""SMS gateway adapters, each speaking its provider's real protocol (signatures included)."""
