"""The organisation department's member roster: reading its spreadsheet, validating resident ID numbers, keeping
them encrypted, and importing rows into members and their branch history (``cms.services.roster_import``)."""
