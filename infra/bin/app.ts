import { App } from "aws-cdk-lib";
import { FLAGS } from "../lib/common";
import { addStacks } from "../lib/seclog-app";

const app = new App({ context: FLAGS });
addStacks(app);
app.synth();
