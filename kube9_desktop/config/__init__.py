"""Settings: declared once as data (:mod:`.schema`), persisted with QSettings (:mod:`.store`)."""
