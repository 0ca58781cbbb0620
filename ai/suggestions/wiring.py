"""What the suggestions part connects when the app starts (called from ai/apps.py). PLACEHOLDER: the suggestions
part fills it in."""


def connect() -> None:
    pass
