"""IAM OIDC provider operations moto 5.x lacks: AddClientIDToOpenIDConnectProvider and
RemoveClientIDFromOpenIDConnectProvider (iam_oidc_provider reconciles a provider's audiences with them).

As IAM does: adding an audience the provider has is a no-op, removing one it lacks is a no-op, and a provider
keeps at most 100 client IDs (LimitExceeded).
"""

MAX_CLIENT_IDS = 100


def install():
    # pylint: disable=import-outside-toplevel
    from moto.core.exceptions import ServiceException
    from moto.iam.responses import IamResponse
    from moto.core.responses import EmptyResult

    if getattr(IamResponse, "add_client_id_to_open_id_connect_provider", None) is not None:
        return

    class LimitExceeded(ServiceException):
        code = "LimitExceeded"

    def add_client_id(self):
        provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
        client_id = self._get_param("ClientID")
        if client_id not in provider.client_id_list:
            if len(provider.client_id_list) >= MAX_CLIENT_IDS:
                raise LimitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d" % MAX_CLIENT_IDS)
            provider.client_id_list.append(client_id)
        return EmptyResult()

    def remove_client_id(self):
        provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
        client_id = self._get_param("ClientID")
        if client_id in provider.client_id_list:
            provider.client_id_list.remove(client_id)
        return EmptyResult()

    IamResponse.add_client_id_to_open_id_connect_provider = add_client_id
    IamResponse.remove_client_id_from_open_id_connect_provider = remove_client_id
