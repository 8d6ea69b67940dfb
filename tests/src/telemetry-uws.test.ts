import { describeTelemetry } from './telemetry/metrics-suite.js'
import { uwsTransport } from './uws-transport.js'

describeTelemetry('uWebSockets.js', uwsTransport)
