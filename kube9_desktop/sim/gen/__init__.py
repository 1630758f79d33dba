"""The sim's cluster generator, one module per family of objects; :mod:`.generator` puts them together."""
