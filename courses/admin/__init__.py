"""The courses in the Wagtail admin: question banks, questions and the bank import."""
