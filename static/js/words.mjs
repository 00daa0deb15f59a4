// The scripts' words are written in Chinese, the site's first language. In any other language base.html loads
// Django's JavaScript catalogue, which defines window.gettext; without it the Chinese source is the text.
export const gettext = (text) => (window.gettext ? window.gettext(text) : text);

// "%(name)s" placeholders, as in the Python catalogue, so a translation may put them in any order.
export const format = (text, values) => text.replace(/%\((\w+)\)s/g, (match, name) => String(values[name]));
