/* Conference-sized limits for the bridge node's PJSIP build (see build.sh). */
/* Past where one core saturates (about 1,250 participants here, bench/RESULTS.md; pjmedia mixes
 * about 2,000 ports a core), so a node's [bridge] capacity is bounded by its CPU, not by the build;
 * settings.MAX_CAPACITY follows this figure. Not higher: PJSUA keeps a slot of about 150 KB for
 * every possible call, in memory from the start (4,096 made the node 650 MB). A prompt player and a
 * recorder may run for every call at once. */
#define PJSUA_MAX_CALLS             2048
#define PJSUA_MAX_PLAYERS           2048
#define PJSUA_MAX_RECORDERS         2048
#define PJSUA_MAX_CONF_PORTS        (PJSUA_MAX_CALLS + 2 * PJSUA_MAX_PLAYERS)
/* Two sockets (RTP, RTCP) per call and the SIP transports. */
#define PJ_IOQUEUE_MAX_HANDLES      (2 * PJSUA_MAX_CALLS + 256)
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
