/* smtp_text: the reply texts that go into log lines and DSNs (message content in DATA form is
 * util/mail/smtp_proto). */
#include "smtp.h"

void smtp_text_said(struct str *out, const char *host, const char *addr, const char *text,
                    const char *cmd)
{
    str_setf(out, "host %s[%s] said: %s (in reply to %s command)", host, addr, text, cmd);
}
