"""Text in and out of the library: cleaning what editors and imports write (`cleaning`), and reading what an
item's files say for search (`extraction`)."""
