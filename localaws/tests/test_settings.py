"""The local stack's settings (``localaws/settings.py``), which the test settings build on: with
moto as the AWS endpoint, the SNS webhook reads moto's signing certificate from moto."""

from django.conf import settings

from localaws.sns_certs import LOCAL_STACK_LOADER


def test_the_local_stack_reads_the_sns_signing_certificate_from_moto():
    assert settings.AWS_ENDPOINT_URL
    assert settings.SNS_CERT_LOADER == LOCAL_STACK_LOADER
