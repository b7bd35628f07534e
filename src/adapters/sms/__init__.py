"""SMS senders: the development log/file backends and a generic HTTP gateway."""
