"""The local stand-ins for AWS, for development and tests only: moto with DynamoDB's write
atomicity (``emulator``), a fake of the APIs moto lacks (``fakeaws``), snapshots of the local
data across restarts (``snapshot``, the ``dev_snapshot`` command), the demo users and contacts
(``seed_demo``), a customer writing on WhatsApp through moto's SNS (the ``simulate_inbound``
command) with moto's signing certificate for the webhook (``sns_certs``), and the dev stack itself
(``devstack``, what ``make run`` runs).

The apps never import this package: they reach these stand-ins only through the endpoint
settings (``AWS_ENDPOINT_URL``, ``AWS_FAKE_ENDPOINT_URL``). Production settings never load it
and the Docker image leaves it out. See docs/design/README.md and docs/local-stack.md.
"""
