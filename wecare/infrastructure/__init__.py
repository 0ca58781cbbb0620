"""The platform's AWS infrastructure as one CloudFormation template, generated from the same
definitions the app and ``bootstrap_aws`` use (ALL_MODELS, WORK_QUEUES, WORKER_SERVICES, the
bucket and log settings), so the two cannot drift. One module per concern; ``template.build()``
puts them together and ``manage.py infra_template`` prints it. Why and how: docs/design/operations.md.
"""
