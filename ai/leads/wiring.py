"""What the leads part connects when the app starts (called from ai/apps.py). PLACEHOLDER: the leads
part fills it in."""


def connect() -> None:
    pass
