"""Keluarga Berintegritas: the learning platform of the Integrity Family program."""
