/* Conference-sized limits for the bridge node's PJSIP build (see build.sh). */
#define PJSUA_MAX_CALLS             1024
#define PJSUA_MAX_PLAYERS           1024
#define PJSUA_MAX_RECORDERS         1024
#define PJSUA_MAX_CONF_PORTS        (PJSUA_MAX_CALLS + 2 * PJSUA_MAX_PLAYERS)
#define PJ_IOQUEUE_MAX_HANDLES      8192
#define PJSUA_MAX_ACC               32
#define PJ_MAX_SOCKOPT_PARAMS       4
/* A conference node spends its time in the mixer, not in logging. */
#define PJ_LOG_MAX_LEVEL            4
#define PJMEDIA_HAS_SRTP            0
#define PJMEDIA_HAS_VIDEO           0
/* The largest SIP message the node reads (PJSIP's default is 4000 bytes: a longer INVITE was cut
 * and its SDP refused, RFC 4475's longreq.dat from a longer address). Kamailio takes requests up to
 * [edge] max_message_bytes (16384) and adds its own headers and rtpengine's SDP to them. */
#define PJSIP_MAX_PKT_LEN           20000
#define PJSIP_MAX_TSX_COUNT         (16 * 1024 - 1)
#define PJSIP_MAX_DIALOG_COUNT      (16 * 1024 - 1)
#define PJ_DEBUG                    0
