"""One report cell as the table shows it: rates as percentages with one decimal, empty figures as a dash."""

from django import template

register = template.Library()


@register.simple_tag
def report_cell(row, key, rates):
    value = row.value(key)
    if value is None:
        return "—"
    if key in rates:
        return f"{value * 100:.1f}%"
    return value
