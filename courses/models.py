"""灯塔大课堂 (monthly course, branch study, quiz) — built in a later issue on top of library items."""
