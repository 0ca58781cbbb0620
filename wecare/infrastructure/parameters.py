"""The template's Parameters: everything that exists already and is reused, never created (the
IAM roles, the image, the network, Cognito, the SNS topic, the buckets, the allowlisted numbers,
the SMS pool, the SES sender) and the environment's name and prefixes. Defaults come from the
settings of the environment that generates the template, as bootstrap_aws reads them."""

from __future__ import annotations

from django.conf import settings

from wecare.infrastructure.cfn import Json

TASK_ROLE = "TaskRoleArn"
EXECUTION_ROLE = "ExecutionRoleArn"
IMAGE = "ImageUri"
VPC = "VpcId"
SUBNETS = "SubnetIds"
LOAD_BALANCER_SUBNETS = "LoadBalancerSubnetIds"
LOAD_BALANCER_SECURITY_GROUPS = "LoadBalancerSecurityGroupIds"
SERVICE_SECURITY_GROUPS = "ServiceSecurityGroupIds"
CERTIFICATE = "CertificateArn"
HOST_NAME = "PublicHostName"
ALERT_TOPIC = "AlertTopicArn"
TABLE_PREFIX = "TablePrefix"
QUEUE_PREFIX = "QueuePrefix"


def _string(description: str, default: str | None = None, **extra: object) -> Json:
    parameter: Json = {"Type": "String", "Description": description, **extra}
    if default is not None:
        parameter["Default"] = default
    return parameter


def parameters() -> Json:
    return {
        "Environment": _string(
            "ENVIRONMENT of every task", "production", AllowedValues=["production", "staging", "preview"]
        ),
        "SendMode": _string(
            "SEND_MODE: LIVE only in production (the settings refuse it elsewhere)",
            "DRY_RUN",
            AllowedValues=["DRY_RUN", "LIVE"],
        ),
        TABLE_PREFIX: _string(
            "DYNAMODB_TABLE_PREFIX: empty in production, e.g. staging-", settings.DYNAMODB_TABLE_PREFIX
        ),
        QUEUE_PREFIX: _string("SQS_QUEUE_PREFIX: empty in production, e.g. staging-", settings.SQS_QUEUE_PREFIX),
        IMAGE: _string("The platform's Docker image (ECR URI with tag or digest)"),
        TASK_ROLE: _string("The existing IAM role every task runs as (no role is created)", MinLength=20),
        EXECUTION_ROLE: _string(
            "The existing ECS execution role: pulls the image, writes logs, reads the secrets", MinLength=20
        ),
        VPC: {"Type": "AWS::EC2::VPC::Id", "Description": "The existing VPC"},
        SUBNETS: {"Type": "List<AWS::EC2::Subnet::Id>", "Description": "Private subnets for the tasks"},
        LOAD_BALANCER_SUBNETS: {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Public subnets for the load balancer",
        },
        LOAD_BALANCER_SECURITY_GROUPS: {
            "Type": "List<AWS::EC2::SecurityGroup::Id>",
            "Description": "The load balancer's security groups (443 and 80 from the internet)",
        },
        SERVICE_SECURITY_GROUPS: {
            "Type": "List<AWS::EC2::SecurityGroup::Id>",
            "Description": "The tasks' security groups (8000 from the load balancer; HTTPS out)",
        },
        CERTIFICATE: _string("ACM certificate of the public host name, for the HTTPS listener"),
        HOST_NAME: _string("The public host name (ALLOWED_HOSTS; SITE_URL is https://<it>)"),
        ALERT_TOPIC: _string("The existing SNS topic alarms notify (SNS_TOPIC_ARN)", settings.SNS_TOPIC_ARN),
        "MediaBucket": _string("The existing media bucket (MEDIA_BUCKET)", settings.MEDIA_BUCKET),
        "ReportBucket": _string("The existing reports bucket (REPORT_BUCKET)", settings.REPORT_BUCKET),
        "CognitoUserPoolId": _string(
            "The existing Cognito user pool (COGNITO_USER_POOL_ID)", settings.COGNITO_USER_POOL_ID
        ),
        "CognitoDomain": _string("The Cognito hosted UI's https:// address (COGNITO_DOMAIN)"),
        "OidcClientId": _string("The Cognito app client id (OIDC_RP_CLIENT_ID)"),
        "WhatsAppPhoneNumberIds": {
            "Type": "CommaDelimitedList",
            "Description": "Allowlisted WhatsApp numbers (WHATSAPP_PHONE_NUMBER_IDS)",
            "Default": ",".join(settings.WHATSAPP_PHONE_NUMBER_IDS),
        },
        "SmsPoolId": _string("The existing SMS pool (SMS_POOL_ID)", settings.SMS_POOL_ID),
        "SesSenderEmail": _string("The existing SES sender identity (SES_SENDER_EMAIL)", settings.SES_SENDER_EMAIL),
        "SecretKeyArn": _string("Secrets Manager secret or SSM parameter ARN holding DJANGO_SECRET_KEY"),
        "OidcClientSecretArn": _string("Secret ARN holding OIDC_RP_CLIENT_SECRET"),
        "DatabaseUrlArn": _string("Secret ARN holding DATABASE_URL (PostgreSQL)"),
    }
