/* qmgr_trigger: the one-byte requests the queue manager accepts on public/qmgr. */
#ifndef KESTREL_MAIL_QMGR_TRIGGER_H
#define KESTREL_MAIL_QMGR_TRIGGER_H

#define QMGR_TRIGGER_ENDPOINT "public/qmgr"
#define QMGR_REQ_SCAN_INCOMING 'I'
#define QMGR_REQ_SCAN_DEFERRED 'D'
#define QMGR_REQ_FLUSH 'F'
#define QMGR_REQ_WAKEUP 'W'

#endif
