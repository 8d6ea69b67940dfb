import { describeHostile } from './hostile-suite.js'

describeHostile('uws')
