"""The library in the Wagtail admin: the item list, form and bulk actions, choosers, filters, curated lists, issue
pages with their article areas, spreadsheet export, and the reads and writes behind them (``selectors``,
``services``: which rows an editor manages, and the changes those screens make). Everything here is registered by
library/wagtail_hooks.py; who may *read* an item is still library.selectors' question, never this package's."""
