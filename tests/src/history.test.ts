import { wsTransport } from './harness.js'
import { describeHistory } from './suites/history.js'
import { uwsTransport } from './uws-transport.js'

describeHistory('ws', wsTransport)
describeHistory('uWS', uwsTransport)
