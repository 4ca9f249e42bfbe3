import { mount } from 'svelte';
import App from './App.svelte';
import { theme } from './lib/theme.svelte.js';
import './app.css';
import './activity.css';

theme.load(); // before the first paint, so a chosen theme never flashes the other one
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
