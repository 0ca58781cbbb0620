"""What the pipeline part connects when the app starts (called from ai/apps.py). PLACEHOLDER: the pipeline
part fills it in."""


def connect() -> None:
    pass
