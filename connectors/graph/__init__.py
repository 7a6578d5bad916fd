"""Microsoft 365 through Microsoft Graph: sign-in with msal, new mail by delta query, sending.

Modules: :mod:`~connectors.graph.auth` (msal public client, device code or system browser, token
cache in the keyring), :mod:`~connectors.graph.msal_http` (msal's HTTP over the egress-checked
client factory), :mod:`~connectors.graph.limits` (Exchange Online's per-mailbox limits),
:mod:`~connectors.graph.client` (requests with throttling, token refresh and error mapping),
:mod:`~connectors.graph.source` (the engine's ``MailSource``) and
:mod:`~connectors.graph.sender` (the engine's ``MailSender``).
"""
