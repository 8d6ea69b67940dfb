import { wsTransport } from './harness.js'
import { describeTelemetry } from './telemetry/metrics-suite.js'

describeTelemetry('ws', wsTransport)
