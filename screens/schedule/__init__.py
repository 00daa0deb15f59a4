"""The schedule's private parts: the pure resolver (``timeline``) and the rules' checks (``validation``)."""
