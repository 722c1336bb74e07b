"""Webhook bodies as each provider sends them (hand-written after their documentation), with the
address, message id and time as parameters so tests can aim them at their own messages."""

from __future__ import annotations

from typing import Any

import orjson

MESSAGE_ID = "<20250602100000.42.abcdef@mail.shop.example>"


def ses_bounce(
    email: str = "ana@example.com",
    *,
    bounce_type: str = "Permanent",
    message_id: str = MESSAGE_ID,
    feedback_id: str = "0100018f-1b2c-4d5e-8f90-aaaabbbbcccc-000000",
    at: str = "2025-06-02T10:05:00.123Z",
    outbox_header: str | None = None,
) -> dict[str, Any]:
    """An SES bounce notification with the original headers included."""
    headers = [
        {"name": "From", "value": "Shop <news@shop.example>"},
        {"name": "To", "value": email},
        {"name": "Message-ID", "value": message_id},
    ]
    if outbox_header is not None:
        headers.append({"name": "X-Lealta-Message", "value": outbox_header})
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General" if bounce_type == "Permanent" else "MailboxFull",
            "bouncedRecipients": [
                {
                    "emailAddress": email,
                    "action": "failed",
                    "status": "5.1.1" if bounce_type == "Permanent" else "4.2.2",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": at,
            "feedbackId": feedback_id,
            "remoteMtaIp": "192.0.2.10",
            "reportingMTA": "dsn; a8-12.smtp-out.eu-west-1.amazonses.com",
        },
        "mail": {
            "timestamp": "2025-06-02T10:00:00.000Z",
            "source": "news@shop.example",
            "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/shop.example",
            "sendingAccountId": "123456789012",
            "messageId": "0102018f1b2c3d4e-11112222-3333-4444-5555-666677778888-000000",
            "destination": [email],
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": {
                "from": ["Shop <news@shop.example>"],
                "to": [email],
                "messageId": message_id,
                "subject": "Our summer collection",
            },
        },
    }


def ses_complaint(
    email: str = "ana@example.com",
    *,
    message_id: str = MESSAGE_ID,
    feedback_id: str = "0100018f-cccc-dddd-eeee-ffff00001111-000000",
    at: str = "2025-06-03T08:00:00.000Z",
) -> dict[str, Any]:
    """An SES complaint notification (an ISP's feedback loop report)."""
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "ExampleCorp Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": email}],
            "complaintFeedbackType": "abuse",
            "arrivalDate": at,
            "timestamp": at,
            "feedbackId": feedback_id,
        },
        "mail": {
            "timestamp": "2025-06-02T10:00:00.000Z",
            "messageId": "0102018f1b2c3d4e-99998888-7777-6666-5555-444433332222-000000",
            "source": "news@shop.example",
            "destination": [email],
            "commonHeaders": {"messageId": message_id, "subject": "Our summer collection"},
        },
    }


def ses_delivery(
    *recipients: str,
    message_id: str = MESSAGE_ID,
    ses_id: str = "0102018f1b2c3d4e-aaaabbbb-cccc-dddd-eeee-ffff00002222-000000",
    at: str = "2025-06-02T10:00:01.546Z",
    outbox_header: str | None = None,
    event_publishing: bool = False,
) -> dict[str, Any]:
    """An SES delivery notification (``eventType`` when it comes from event publishing)."""
    to = list(recipients or ("ana@example.com",))
    headers = [{"name": "To", "value": ", ".join(to)}, {"name": "Message-ID", "value": message_id}]
    if outbox_header is not None:
        headers.append({"name": "X-Lealta-Message", "value": outbox_header})
    return {
        "eventType" if event_publishing else "notificationType": "Delivery",
        "mail": {
            "timestamp": "2025-06-02T10:00:01.000Z",
            "source": "news@shop.example",
            "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/shop.example",
            "sendingAccountId": "123456789012",
            "messageId": ses_id,
            "destination": to,
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": {
                "from": ["Shop <news@shop.example>"],
                "to": to,
                "messageId": message_id,
                "subject": "Our summer collection",
            },
        },
        "delivery": {
            "timestamp": at,
            "processingTimeMillis": 546,
            "recipients": to,
            "smtpResponse": "250 2.6.0 Message received",
            "remoteMtaIp": "192.0.2.20",
            "reportingMTA": "a8-70.smtp-out.eu-west-1.amazonses.com",
        },
    }


def sns(
    notification: dict[str, Any], *, sns_id: str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"
) -> dict[str, Any]:
    """``notification`` in the SNS envelope SES publishes through."""
    return {
        "Type": "Notification",
        "MessageId": sns_id,
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-feedback",
        "Message": orjson.dumps(notification).decode(),
        "Timestamp": "2025-06-02T10:05:01.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4Vbe=",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-example.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    }


def sns_subscription() -> dict[str, Any]:
    """The message SNS sends once to confirm a new HTTPS subscription."""
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-feedback",
        "Message": "You have chosen to subscribe to the topic "
        "arn:aws:sns:eu-west-1:123456789012:ses-feedback.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
        "&TopicArn=arn:aws:sns:eu-west-1:123456789012:ses-feedback&Token=2336412f37",
        "Timestamp": "2025-06-01T09:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem",
    }


def _recipient(name: str, number: int) -> dict[str, str]:
    """Another recipient of the same SendGrid request: its own Message-ID and message id (the
    part before ``.filter`` is the request's, shared by all its recipients)."""
    return {
        "email": f"{name}@example.com",
        "smtp-id": f"<{name}.{number}@mail.shop.example>",
        "sg_message_id": f"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B8{number}.0",
    }


def sendgrid(
    email: str = "ana@example.com", *, smtp_id: str = MESSAGE_ID, ts: int = 1748858700
) -> list[dict[str, Any]]:
    """A SendGrid Event Webhook batch: processed, delivered, a hard bounce, a block, a drop, an
    open and a spam report."""
    common = {
        "email": email,
        "smtp-id": smtp_id,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "category": ["summer"],
    }
    return [
        {**common, "timestamp": ts - 60, "event": "processed", "sg_event_id": "sg-processed-1"},
        {
            **common,
            "timestamp": ts - 50,
            "event": "delivered",
            "response": "250 OK",
            "sg_event_id": "sg-delivered-1",
        },
        {
            **common,
            "timestamp": ts,
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
            "bounce_classification": "Invalid Address",
            "sg_event_id": "sg-bounce-1",
        },
        {
            **common,
            **_recipient("bea", 1),
            "timestamp": ts,
            "event": "bounce",
            "type": "blocked",
            "status": "4.0.0",
            "reason": "421 try again later",
            "sg_event_id": "sg-blocked-1",
        },
        {
            **common,
            **_recipient("carl", 2),
            "timestamp": ts,
            "event": "dropped",
            "reason": "Bounced Address",
            "status": "5.0.0",
            "sg_event_id": "sg-dropped-1",
        },
        {
            **common,
            **_recipient("dan", 3),
            "timestamp": ts,
            "event": "dropped",
            "reason": "Unsubscribed Address",
            "sg_event_id": "sg-dropped-2",
        },
        {
            **common,
            "timestamp": ts + 10,
            "event": "open",
            "useragent": "Mozilla/5.0",
            "ip": "198.51.100.7",
            "sg_event_id": "sg-open-1",
        },
        {
            **common,
            **_recipient("eva", 4),
            "timestamp": ts + 20,
            "event": "spamreport",
            "sg_event_id": "sg-spam-1",
            "lealta_message": "77",
        },
    ]


def sendgrid_delivered(
    email: str = "ana@example.com",
    *,
    smtp_id: str = MESSAGE_ID,
    event_id: str = "sg-delivered-7",
    ts: int = 1748858450,
) -> list[dict[str, Any]]:
    """A SendGrid Event Webhook batch with one ``delivered`` event."""
    return [
        {
            "email": email,
            "timestamp": ts,
            "smtp-id": smtp_id,
            "event": "delivered",
            "category": ["summer"],
            "sg_event_id": event_id,
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "response": "250 2.0.0 OK 1748858450 d1si123.1 - gsmtp",
            "tls": 1,
            "ip": "168.1.1.1",
        }
    ]


def mailgun(
    email: str = "ana@example.com",
    *,
    event: str = "failed",
    severity: str = "permanent",
    message_id: str = "20250602100000.42.abcdef@mail.shop.example",
    event_id: str = "G9Bn5sl1TC6nu79C8C0bwg",
    ts: float = 1748858700.512,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Mailgun webhook: the signature block and the event data."""
    data: dict[str, Any] = {
        "id": event_id,
        "timestamp": ts,
        "log-level": "error" if event == "failed" else "warn",
        "event": event,
        "recipient": email,
        "recipient-domain": email.split("@")[1],
        "tags": ["summer"],
        "envelope": {"sender": "bounce@mail.shop.example", "transport": "smtp", "targets": email},
        "message": {
            "headers": {
                "to": email,
                "message-id": message_id,
                "from": "Shop <news@shop.example>",
                "subject": "Our summer collection",
            },
            "size": 11843,
        },
        "flags": {"is-routed": False, "is-authenticated": True, "is-test-mode": False},
        "user-variables": variables or {},
    }
    if event == "failed":
        data["severity"] = severity
        data["reason"] = "bounce" if severity == "permanent" else "generic"
        data["delivery-status"] = {
            "code": 550 if severity == "permanent" else 452,
            "message": "5.1.1 The email account that you tried to reach does not exist",
            "description": "No such user" if severity == "permanent" else "Mailbox full",
            "attempt-no": 1,
            "tls": True,
        }
    elif event == "delivered":
        data["delivery-status"] = {
            "code": 250,
            "message": "OK",
            "description": "",
            "attempt-no": 1,
            "tls": True,
            "mx-host": "mx.example.com",
        }
    return {
        "signature": {
            "timestamp": str(int(ts)),
            "token": "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
            "signature": "d2271d12299f6592d9d44cd9d250f0704e4674c30d79d07c47a66f95ce71cf55",
        },
        "event-data": data,
    }


def postmark_bounce(
    email: str = "ana@example.com",
    *,
    kind: str = "HardBounce",
    type_code: int = 1,
    bounce_id: int = 4323372036854775807,
    message_id: str = "883953f4-6105-42a2-a16a-77a8eac79483",
    at: str = "2025-06-02T06:05:00.2735393-04:00",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Postmark's Bounce webhook."""
    return {
        "RecordType": "Bounce",
        "MessageStream": "broadcast",
        "ID": bounce_id,
        "Type": kind,
        "TypeCode": type_code,
        "Name": "Hard bounce" if kind == "HardBounce" else kind,
        "Tag": "summer",
        "MessageID": message_id,
        "Metadata": metadata or {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "news@shop.example",
        "BouncedAt": at,
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Our summer collection",
        "Content": "Return-Path: <>\r\n…",
    }


def postmark_delivery(
    email: str = "ana@example.com",
    *,
    message_id: str = "883953f4-6105-42a2-a16a-77a8eac79483",
    at: str = "2025-06-02T06:00:01.9070259-04:00",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Postmark's Delivery webhook (no id of its own)."""
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "broadcast",
        "MessageID": message_id,
        "Recipient": email,
        "Tag": "summer",
        "DeliveredAt": at,
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": metadata or {},
    }


def generic_delivery(email: str = "ana@example.com", **fields: Any) -> dict[str, Any]:
    """The generic format's delivery; ``fields`` adds ``message_id``, ``outbox_id``, ``id`` …"""
    return {"type": "delivery", "email": email, **fields}


def postmark_complaint(email: str = "ana@example.com", *, complaint_id: int = 42) -> dict[str, Any]:
    """Postmark's Spam Complaint webhook."""
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "broadcast",
        "ID": complaint_id,
        "Type": "SpamComplaint",
        "TypeCode": 100001,
        "Name": "Spam complaint",
        "Tag": "summer",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Metadata": {"lealta_message": "12"},
        "ServerID": 1234,
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
        "Email": email,
        "From": "news@shop.example",
        "BouncedAt": "2025-06-03T08:00:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Our summer collection",
    }
