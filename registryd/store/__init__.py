"""Persistence behind one small interface (`Store`): memory, and sqlite (the embedded default)."""
