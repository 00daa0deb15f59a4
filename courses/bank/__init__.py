"""Question bank import (XLSX/CSV in the layout Chinese organisations use), private to courses."""
