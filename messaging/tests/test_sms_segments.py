import pytest

from messaging.outbound.sms_segments import count_segments


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),
        ("ç" * 70, "UCS-2", 1),  # lower-case ç is not in GSM-7
        ("ç" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
        ("", "GSM-7", 0),
    ],
)
def test_it_counts_segments_like_a_carrier(text, encoding, count):
    segments = count_segments(text)
    assert (segments.encoding, segments.count) == (encoding, count)
