"""E-mail senders: the development log/file backends and SMTP (`CRM_SMTP_URL`)."""
