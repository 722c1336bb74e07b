"""Identity: recognising one person across anonymous ids, user ids, e-mails and phones."""
