"""The screens' admin: channels, rules and screens (scoped to the editor's units), pairing and the preview."""
