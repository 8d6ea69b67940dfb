import { wsTransport } from './harness.js'
import { describeAuthRefresh } from './suites/auth-refresh.js'
import { describeEvents } from './suites/events.js'
import { describeHardening } from './suites/hardening.js'
import { describeLifecycle } from './suites/lifecycle.js'
import { describeRpc } from './suites/rpc.js'

describeRpc('ws', wsTransport)
describeEvents('ws', wsTransport)
describeLifecycle('ws', wsTransport)
describeHardening('ws', wsTransport)
describeAuthRefresh('ws', wsTransport)
