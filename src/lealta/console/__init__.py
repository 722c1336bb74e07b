"""The marketers' web console: server-rendered pages (Jinja2) from the same app as the REST API,
calling the same services. Signed-cookie sessions, roles, CSRF tokens on every change."""
