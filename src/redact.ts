/**
 * The one way a URL with credentials is shown in messages and logs: the password is masked and
 * the user name kept (`postgres://owl:***@db/owl`); a user name alone is masked too, since it is
 * often a token (`http://***@proxy:3128`).
 */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^/@\s]*)@/, (_match, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? '//***@' : `//${userinfo.slice(0, colon)}:***@`;
  });
}
