"""How the library files things: the Chinese Library Classification (中图法, `clc`) and standard identifiers
(ISBN, ISSN, CN numbers: `identifiers`)."""
