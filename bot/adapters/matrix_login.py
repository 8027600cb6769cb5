"""How the bot's Matrix device logs in: restored from its store, or with the configured access
token or password; and logging in again when the homeserver forgot the token."""

from __future__ import annotations

from nio import AsyncClient, LoginResponse, WhoamiResponse

from bot.adapters.matrix_store import StateFiles
from bot.channel import ChannelStartError

CREDENTIALS = "credentials.json"


class MatrixLogin:
    """The bot's credentials, and where its device's are kept (``files``)."""

    def __init__(self, user_id: str, files: StateFiles, *, password: str | None,
                 access_token: str | None, device_name: str) -> None:
        self.user_id, self.files = user_id, files
        self.password, self.access_token, self.device_name = password, access_token, device_name

    async def start(self, client: AsyncClient) -> None:
        """Restore the device kept in the store, or log in; raises :class:`ChannelStartError`
        when the homeserver refuses."""
        saved = self.files.load_json(CREDENTIALS)
        if saved.get("user_id") == self.user_id:
            client.restore_login(saved["user_id"], saved["device_id"], saved["access_token"])
        elif self.access_token is not None:
            await self._with_token(client, self.access_token)
        else:
            await self._with_password(client)
        await self._logged_in(client)

    async def again(self, client: AsyncClient, refused: str | None) -> bool:
        """Log in afresh after ``refused`` was refused: with a configured token other than it,
        or with the password (as a new device). Returns whether that worked."""
        (self.files.directory / CREDENTIALS).unlink(missing_ok=True)
        try:
            if self.access_token is not None and self.access_token != refused:
                await self._with_token(client, self.access_token)
            elif self.password is not None:
                await self._with_password(client)
            else:
                return False
            await self._logged_in(client)
        except (ChannelStartError, OSError, TimeoutError):
            return False
        return True

    @staticmethod
    async def _with_token(client: AsyncClient, token: str) -> None:
        client.access_token = token
        whoami = await client.whoami()
        if not isinstance(whoami, WhoamiResponse) or whoami.device_id is None:
            raise ChannelStartError("the Matrix homeserver refused the access token")
        client.restore_login(whoami.user_id, whoami.device_id, token)

    async def _with_password(self, client: AsyncClient) -> None:
        assert self.password is not None
        response = await client.login(self.password, device_name=self.device_name)
        if not isinstance(response, LoginResponse):
            raise ChannelStartError("the Matrix homeserver refused the login")

    async def _logged_in(self, client: AsyncClient) -> None:
        assert client.device_id is not None
        self.files.save_json(CREDENTIALS, {"user_id": client.user_id,
                                           "device_id": client.device_id,
                                           "access_token": client.access_token})
        if client.olm is not None and client.should_upload_keys:
            await client.keys_upload()
